/* SPDX-License-Identifier: MIT */
/* test_this_cpu_cxx.cpp - test_this_cpu compiled as C++: the this_cpu operations'
 * inline code and macros as g++ and clang++ compile them. */
#include "test_this_cpu.c"
