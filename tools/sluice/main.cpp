// SPDX-License-Identifier: Apache-2.0
#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "version") {
    std::printf("sluice %s\n", SLUICE_VERSION);
    return 0;
  }
  std::fprintf(stderr, "usage: sluice version\n");
  return 2;
}
