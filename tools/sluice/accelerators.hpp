// SPDX-License-Identifier: Apache-2.0
/// Registers the accelerator backends this binary was built with in core's registries.
#pragma once

namespace sluice::cli {

/// Registers the CUDA anomaly scorer and the DPDK capture backend when the binary is built with
/// them; otherwise does nothing.
/// Idempotent; call before choosing a backend.
void register_accelerators();

}  // namespace sluice::cli
