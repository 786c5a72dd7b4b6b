// SPDX-License-Identifier: Apache-2.0
// Boost.URL compiled once, here (header-only mode), for daemon/ and oidc/ alike, like Boost.JSON
// in proto/json_impl.cpp.
#include <boost/url/src.hpp>
