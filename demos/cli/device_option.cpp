#include "demos/cli/device_option.h"

#include "comm/communicator.h"
#include "comm/nccl.h"
#include "ops_cpu/gemm_backend.h"
#include "ops_cpu/threads.h"
#include "tensor/device.h"
#include "tensor/error.h"

namespace gs::cli {

void add_device_option(Options& o) {
  o.add("device", "cpu", "cpu | cuda: where the tensors live and the kernels run");
}

Device parse_device(const std::string& value) {
  if (value == "cpu") return Device::CPU;
  if (value != "cuda") fail("--device", "must be cpu or cuda, got '", value, "'");
  if (!cuda_built())
    fail("--device", "cuda: not built with CUDA (reconfigure with -DGRADSCOPE_CUDA=ON where nvcc exists)");
  if (!cuda_available()) fail("--device", "cuda: no CUDA device found on this machine (this build has the CUDA backend)");
  return Device::CUDA;
}

Device device_from(const Options& o) {
  const Device d = parse_device(o.str("device"));
  // Several ranks on CUDA: each takes its own GPU now, before its first CUDA allocation fixes
  // the device of gradscope's stream (comm/nccl.h). Without NCCL the trainer refuses later.
  if (d == Device::CUDA && comm::nccl_available() && comm::world().size() > 1) comm::select_local_device(comm::world());
  return d;
}

std::string device_label(Device device) {
  return device == Device::CUDA ? "cuda (" + cuda_device_name() + ")" : "cpu";
}

nlohmann::json cpu_compute_json(DType dtype) {
  const bool f32 = dtype == kFloat32;
  // processes: the world the command ran in (mpirun -np N; 1 alone), threads are per process
  return {{"gemm", f32 ? cpu::gemm_backend_name(cpu::gemm_backend()) : "openblas"},
          {"threads", cpu::num_threads()},
          {"processes", comm::world().size()}};
}

}  // namespace gs::cli
