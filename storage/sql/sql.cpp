// SPDX-License-Identifier: Apache-2.0
#include "storage/sql/sql.hpp"

namespace latchkey::sql {

core::Status Statement::run()
{
    for (;;) {
        LATCHKEY_TRY(row, step());
        if (!row)
            break;
    }
    reset();
    return {};
}

core::Result<Transaction> Transaction::begin(Connection& c, Access access)
{
    LATCHKEY_TRY_STATUS(c.begin(access));
    return Transaction(c);
}

core::Status Transaction::commit()
{
    if (c_ == nullptr)
        return core::fail(core::Errc::internal, "commit of a finished transaction");
    Connection* c = std::exchange(c_, nullptr);
    if (auto done = c->commit(); !done) {
        c->rollback();
        return done;
    }
    return {};
}

} // namespace latchkey::sql
