// SPDX-License-Identifier: Apache-2.0
// The engines the store contract runs on.
#pragma once

#include <vector>

#include "tests/storage/store_fixture.hpp"

namespace latchkey::store_test {

/// Every engine: SQLite, then PostgreSQL (on a server the test binary starts itself).
std::vector<EngineKind> engines();

} // namespace latchkey::store_test
