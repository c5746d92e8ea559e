#pragma once
// Which devices this build and machine offer.
namespace gs {

// True when the CUDA backend is built in and a device is present.
bool cuda_available();
int cuda_device_count();
// True when this build contains the CUDA backend (device present or not).
bool cuda_built();

}  // namespace gs
