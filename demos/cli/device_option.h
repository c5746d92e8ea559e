#pragma once
// --device cpu|cuda for the CLI commands that compute on tensors (analyze, train).
#include <string>

#include <nlohmann/json.hpp>

#include "demos/cli/options.h"
#include "tensor/dtype.h"

namespace gs::cli {

// Declares --device (default cpu).
void add_device_option(Options& o);
// The parsed device, checked before any work: "cuda" in a build without CUDA or on a machine
// without a device throws "--device: ..." (main prints it and exits with code 2).
Device device_from(const Options& o);
Device parse_device(const std::string& value);
// "cpu", or "cuda (<device name>)": what the commands print and write into run.json.
std::string device_label(Device device);
// What runs a CPU model's matrix products, for run.json: {"gemm": "onednn" | "openblas", "threads": n}.
// float64 products always run on OpenBLAS (ops_cpu/gemm_backend.h).
nlohmann::json cpu_compute_json(DType dtype);

}  // namespace gs::cli
