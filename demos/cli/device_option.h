#pragma once
// --device cpu|cuda for the CLI commands that compute on tensors (analyze, train).
#include <string>

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

}  // namespace gs::cli
