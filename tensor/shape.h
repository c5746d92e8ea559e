#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace gs {

// A tensor's dims or strides: a vector of int64_t that keeps up to kInline elements inside the
// object and only goes to the heap beyond that. Every op builds several shapes (output shape,
// strides, a node's saved input shapes), and with std::vector each was a heap allocation: the
// allocator was half of a small op's cost. Its interface is the part of std::vector the engine
// uses; it converts implicitly from std::vector<int64_t>, and back with to_vector() (or an explicit
// conversion), for code written against that.
class Shape {
 public:
  static constexpr size_t kInline = 6;
  using value_type = int64_t;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = int64_t&;
  using const_reference = const int64_t&;
  using pointer = int64_t*;
  using const_pointer = const int64_t*;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  Shape() noexcept = default;
  explicit Shape(size_t n, int64_t value = 0) { assign(n, value); }
  Shape(std::initializer_list<int64_t> il) { assign(il.begin(), il.end()); }
  template <std::input_iterator It>
  Shape(It first, It last) {
    assign(first, last);
  }
  Shape(const std::vector<int64_t>& v) { assign(v.begin(), v.end()); }  // NOLINT: implicit on purpose
  Shape(const Shape& o) { assign(o.begin(), o.end()); }
  Shape(Shape&& o) noexcept { steal(o); }
  Shape& operator=(const Shape& o) {
    if (this != &o) assign(o.begin(), o.end());
    return *this;
  }
  Shape& operator=(Shape&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }
  Shape& operator=(std::initializer_list<int64_t> il) {
    assign(il.begin(), il.end());
    return *this;
  }
  ~Shape() { release(); }

  std::vector<int64_t> to_vector() const { return {begin(), end()}; }
  explicit operator std::vector<int64_t>() const { return to_vector(); }

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_t capacity() const noexcept { return cap_; }
  int64_t* data() noexcept { return data_; }
  const int64_t* data() const noexcept { return data_; }
  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cbegin() const noexcept { return data_; }
  const_iterator cend() const noexcept { return data_ + size_; }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }
  int64_t& operator[](size_t i) noexcept { return data_[i]; }
  const int64_t& operator[](size_t i) const noexcept { return data_[i]; }
  int64_t& front() noexcept { return data_[0]; }
  const int64_t& front() const noexcept { return data_[0]; }
  int64_t& back() noexcept { return data_[size_ - 1]; }
  const int64_t& back() const noexcept { return data_[size_ - 1]; }

  void reserve(size_t n) {
    if (n > cap_) grow(n);
  }
  void clear() noexcept { size_ = 0; }
  void resize(size_t n, int64_t value = 0) {
    reserve(n);
    for (size_t i = size_; i < n; ++i) data_[i] = value;
    size_ = n;
  }
  void assign(size_t n, int64_t value) {
    clear();
    resize(n, value);
  }
  template <std::input_iterator It>
  void assign(It first, It last) {
    clear();
    if constexpr (std::forward_iterator<It>) reserve(static_cast<size_t>(std::distance(first, last)));
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  void push_back(int64_t v) {
    if (size_ == cap_) grow(2 * cap_);
    data_[size_++] = v;
  }
  void pop_back() noexcept { --size_; }
  iterator insert(const_iterator pos, int64_t v) { return insert(pos, &v, &v + 1); }
  iterator insert(const_iterator pos, size_t n, int64_t v) {
    const size_t at = index_of(pos);
    make_gap(at, n);
    std::fill(data_ + at, data_ + at + n, v);
    return data_ + at;
  }
  template <std::forward_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    const size_t at = index_of(pos);
    const size_t n = static_cast<size_t>(std::distance(first, last));
    // the source may live inside this shape, which make_gap can move: copy it out first
    int64_t tmp_inline[kInline] = {};
    std::vector<int64_t> tmp_heap;
    int64_t* tmp = tmp_inline;
    if (n > kInline) {
      tmp_heap.resize(n);
      tmp = tmp_heap.data();
    }
    std::copy(first, last, tmp);
    make_gap(at, n);
    std::copy(tmp, tmp + n, data_ + at);
    return data_ + at;
  }
  iterator insert(const_iterator pos, std::initializer_list<int64_t> il) { return insert(pos, il.begin(), il.end()); }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const size_t a = index_of(first), b = index_of(last);
    if (a == b) return data_ + a;
    std::copy(data_ + b, data_ + size_, data_ + a);
    size_ -= b - a;
    return data_ + a;
  }

  friend bool operator==(const Shape& a, const Shape& b) noexcept {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator<(const Shape& a, const Shape& b) noexcept {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  bool on_heap() const noexcept { return data_ != inline_; }
  size_t index_of(const_iterator p) const noexcept { return static_cast<size_t>(p - data_); }
  void grow(size_t want) {
    const size_t n = std::max<size_t>(want, kInline);
    int64_t* p = new int64_t[n];
    std::copy(data_, data_ + size_, p);
    release();
    data_ = p;
    cap_ = n;
  }
  void make_gap(size_t at, size_t n) {
    if (n == 0) return;
    if (size_ + n > cap_) grow(std::max(size_ + n, 2 * cap_));
    std::copy_backward(data_ + at, data_ + size_, data_ + size_ + n);
    size_ += n;
  }
  void release() noexcept {
    if (on_heap()) delete[] data_;
    data_ = inline_;
    cap_ = kInline;
  }
  void steal(Shape& o) noexcept {
    if (o.on_heap()) {
      data_ = o.data_;
      cap_ = o.cap_;
      o.data_ = o.inline_;
      o.cap_ = kInline;
    } else {
      std::copy(o.inline_, o.inline_ + o.size_, inline_);
    }
    size_ = o.size_;
    o.size_ = 0;
  }

  int64_t inline_[kInline];
  int64_t* data_ = inline_;
  size_t size_ = 0;
  size_t cap_ = kInline;
};

// "[4, 3]"; "[]" for a scalar.
std::string shape_str(const Shape& s);
int64_t numel_of(const Shape& s);
// Row-major strides in elements.
Shape contiguous_strides(const Shape& s);
// NumPy broadcasting of two shapes; throws "<op>: shapes [..] and [..] cannot be broadcast".
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);
// Wraps a possibly negative dim into [0, ndim); throws "<op>: dim d out of range for a k-d tensor".
int64_t wrap_dim(std::string_view op, int64_t dim, int64_t ndim);

}  // namespace gs
