# The public headers: every *.h of the library layers except the few internal to one layer's
# sources. One list for the install rules (cmake/install.cmake) and the header check
# (cmake/header_check.cmake), so what is installed is what is checked.
#   GS_PUBLIC_HEADERS  paths relative to the source root, e.g. "autograd/ops/loss.h"
set(GS_INTERNAL_HEADERS
    analysis/head_internal.h  # the chunked passes shared by analysis/head_*.cpp
    analysis/head_shards.h    # the head metrics' collectives across ranks (analysis/head_*.cpp, monitor.cpp)
    ops_cuda/check.h          # CUDA/cuBLAS/cuSOLVER error macros (needs the CUDA headers)
    ops_cuda/context.h        # stream, handles, scratch buffers (needs the CUDA headers)
    ops_cuda/stub_message.h   # the message of the CPU-only stubs
    tokenizer/gpt2_files.h    # reading GPT-2's files, shared by tokenizer/gpt2*.cpp
    comm/mpi_world.h)         # the MPI world's factory, shared by comm/world.cpp and comm/mpi.cpp
file(GLOB_RECURSE GS_PUBLIC_HEADERS CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}
     ${PROJECT_SOURCE_DIR}/ops_common/*.h ${PROJECT_SOURCE_DIR}/ops_cpu/*.h ${PROJECT_SOURCE_DIR}/ops_cuda/*.h ${PROJECT_SOURCE_DIR}/tokenizer/*.h ${PROJECT_SOURCE_DIR}/comm/*.h ${PROJECT_SOURCE_DIR}/tensor/*.h
     ${PROJECT_SOURCE_DIR}/autograd/*.h ${PROJECT_SOURCE_DIR}/nn/*.h ${PROJECT_SOURCE_DIR}/analysis/*.h)
list(REMOVE_ITEM GS_PUBLIC_HEADERS ${GS_INTERNAL_HEADERS})
list(SORT GS_PUBLIC_HEADERS)
