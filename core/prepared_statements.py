"""A kept PostgreSQL connection heals its prepared statements after a column changes type.

Settings turn on psycopg's prepared statements (server-side binding, prepared the fifth
time a connection runs a statement). A statement prepared before another session changed
the type or length of a column it returns (a migration's `AlterField` of a `max_length`
during a rolling upgrade) is refused by PostgreSQL from then on: "cached plan must not
change result type" (SQLSTATE 0A000). psycopg keeps using it, so without this every run of
that statement on that connection fails until the connection is renewed (`conn_max_age`,
a minute): on an old server, every request, as `core.access` reads every column of
auth_user on each one.

`heal_stale_prepared_statements`, installed on every PostgreSQL connection, turns that into
one warning:

- outside a transaction (autocommit: the statement was its own transaction and nothing of
  it happened) it runs DEALLOCATE ALL and the statement again, once;
- inside one (`atomic()`) PostgreSQL has aborted the transaction, so nothing can be run
  again: the error goes up, that one transaction fails, and its rollback heals the
  connection by itself, as psycopg forgets every prepared statement on a ROLLBACK (also a
  ROLLBACK TO SAVEPOINT; psycopg/_preparing.py, `_should_discard`, and
  `Connection._rollback_gen`). Nothing needs marking for the next transaction.

It lives in core, not config, because it must be on in every process that opens a
connection (gunicorn, the job worker, commands): core's AppConfig.ready() runs in each,
and config, imported by nothing, has no ready(). `docs/deploying.md` (Upgrading) says what
an operator sees.
"""

import logging

from django.db import NotSupportedError
from django.db.backends.signals import connection_created
from psycopg import pq

logger = logging.getLogger(__name__)

STALE_PLAN_SQLSTATE = "0A000"  # feature_not_supported, shared with other refusals
STALE_PLAN_MESSAGE = "cached plan must not change result type"

# psycopg clears its own cache of prepared statements when it sees the command tag
# DEALLOCATE ALL, but only for a statement text it has not counted yet (_preparing.py:
# `maybe_add_to_cache` returns a key only for a new text, and `validate` runs only then).
# A text of our own, run only while psycopg holds a prepared statement (the one that just
# failed), is always new to it: the clear forgets its count too. The plain "DEALLOCATE ALL",
# once run elsewhere with nothing prepared, would stay counted and go unnoticed next time,
# and psycopg would then run statements the server no longer has.
DEALLOCATE_ALL = "/* core.prepared_statements: a column changed type */ DEALLOCATE ALL"


def is_stale_plan_error(error: BaseException) -> bool:
    """PostgreSQL refused a prepared statement whose result columns changed type."""
    cause = error.__cause__  # Django's error wraps psycopg's
    diag = getattr(cause, "diag", None)
    return (
        getattr(cause, "sqlstate", None) == STALE_PLAN_SQLSTATE
        and diag is not None
        and diag.message_primary == STALE_PLAN_MESSAGE
    )


def heal_stale_prepared_statements(execute, sql, params, many, context):
    """Django execute wrapper (connection.execute_wrappers): see the module's docstring."""
    try:
        return execute(sql, params, many, context)
    except NotSupportedError as error:
        database = context["connection"]
        if not is_stale_plan_error(error) or not _outside_any_transaction(database):
            raise
        with database.wrap_database_errors, database.connection.cursor() as cursor:
            cursor.execute(DEALLOCATE_ALL, prepare=False)
        if many:
            # executemany may have written some rows before the refused one: not run again.
            # The next statement finds the connection healed.
            logger.warning(
                "A column changed type since this connection prepared its statements: "
                "they were discarded; the batch statement that failed is not run again."
            )
            raise
        logger.warning(
            "A column changed type since this connection prepared its statements: "
            "they were discarded and the statement run again."
        )
        return execute(sql, params, many, context)


def _outside_any_transaction(database) -> bool:
    """The failed statement was its own transaction (autocommit), so running it again does
    it once. Django's flag, and the server's own word (a transaction opened with
    set_autocommit(False) is not an atomic block, yet it is aborted now)."""
    return (
        not database.in_atomic_block
        and database.connection.info.transaction_status == pq.TransactionStatus.IDLE
    )


def install_on_connection(sender, connection, **kwargs):
    """connection_created receiver: each new PostgreSQL connection of a DatabaseWrapper (it
    reconnects on the same object after conn_max_age) gets the wrapper, once."""
    if connection.vendor != "postgresql":
        return
    if heal_stale_prepared_statements not in connection.execute_wrappers:
        # First in the list: the outermost wrapper, around any added later; and
        # connection.execute_wrapper(), which pops the last one when it ends, never takes it
        # off when the connection opened inside it.
        connection.execute_wrappers.insert(0, heal_stale_prepared_statements)


def install() -> None:
    """Called once from core's AppConfig.ready(): before any connection is opened, so the
    web servers, the job worker and the commands all get it."""
    connection_created.connect(install_on_connection, dispatch_uid="heal_stale_prepared_statements")
