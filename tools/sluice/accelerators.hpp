// SPDX-License-Identifier: Apache-2.0
/// Registers the accelerator backends this binary was built with in core's registries.
#pragma once

namespace sluice::cli {

/// Registers the CUDA anomaly scorer when the binary is built with it; otherwise does nothing.
/// Idempotent; call before choosing a backend.
void register_accelerators();

}  // namespace sluice::cli
