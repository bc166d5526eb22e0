# SPDX-License-Identifier: Apache-2.0
# Finds every third-party library Sluice links. All come from Debian's packages (tools/setup).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(simdjson REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(fmt REQUIRED)
find_package(GTest)
find_package(benchmark)
pkg_check_modules(HS REQUIRED IMPORTED_TARGET libhs)
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)
pkg_check_modules(JEMALLOC IMPORTED_TARGET jemalloc)
find_package(yaml-cpp REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
# Linear algebra for the CPU anomaly scorer (header-only, Debian libeigen3-dev).
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# LZ4: the store's faster-to-read block codec (`[store] codec = "lz4"`, Debian liblz4-dev).
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
# oneTBB: parallel search over store blocks (core/src/search) and the correlation engine's
# shards updated in parallel (core/src/correlate).
find_package(TBB REQUIRED)

# Accelerators: AUTO turns each on when its toolkit is found. The modules that use them
# (dpdk/, gpu/) build only when SLUICE_HAVE_* is ON.
set(SLUICE_HAVE_DPDK OFF)
if(NOT SLUICE_WITH_DPDK STREQUAL "OFF")
  pkg_check_modules(DPDK IMPORTED_TARGET libdpdk)
  if(DPDK_FOUND)
    set(SLUICE_HAVE_DPDK ON)
  elseif(SLUICE_WITH_DPDK STREQUAL "ON")
    message(FATAL_ERROR "SLUICE_WITH_DPDK=ON but libdpdk was not found (apt install libdpdk-dev)")
  endif()
endif()

set(SLUICE_HAVE_CUDA OFF)
if(NOT SLUICE_WITH_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    find_package(CUDAToolkit)
  endif()
  if(CMAKE_CUDA_COMPILER AND TARGET CUDA::cublas)
    set(SLUICE_HAVE_CUDA ON)
  elseif(SLUICE_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "SLUICE_WITH_CUDA=ON but no CUDA compiler with cuBLAS was found (/usr/local/cuda)")
  endif()
endif()
