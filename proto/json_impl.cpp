// SPDX-License-Identifier: Apache-2.0
// Boost.JSON compiled into this library (header-only mode), so pam_latchkey.so needs no
// Boost runtime library. Nothing else in the build may link libboost_json.
#include <boost/json/src.hpp>
