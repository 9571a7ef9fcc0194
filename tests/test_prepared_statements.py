"""A kept PostgreSQL connection heals its prepared statements when another session changes
the type of a column they return (core.prepared_statements): the reviewer's scenario of a
rolling upgrade, with the ALTER a migration's AlterField of a max_length would run."""

import contextlib
import logging

import pytest
from django.db import NotSupportedError, connection, connections, transaction
from django.urls import reverse

from core.models import Role
from core.prepared_statements import heal_stale_prepared_statements
from demo import builders
from permits.models import Application
from tests.conftest import client_for, make_user

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
HEALED = "A column changed type since this connection prepared its statements"
# More than settings' prepare_threshold (5): the statement is prepared on this connection.
RUNS_TO_PREPARE = 6


@contextlib.contextmanager
def column_type_changed(table: str, column: str, new_type: str, old_type: str):
    """Another session changes the column's type, as `migrate` on another server would, and
    puts it back afterwards (the test database serves the next tests). The kept connection
    is closed too: its statements prepared on the changed column must not fail a later
    test inside its transaction."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # autocommit: the ALTER commits at once
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {new_type}")
        yield
    finally:
        try:
            with other.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {old_type}")
        finally:
            other.close()
            connection.close()


def prepared_count(fragment: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def applications(municipality_a):
    builders.application(municipality=municipality_a, number="BP-2026-0001")
    builders.application(municipality=municipality_a, number="BP-2026-0002")
    return municipality_a


def numbers(municipality) -> list[str]:
    return list(
        Application.objects.filter(municipality=municipality)
        .order_by("number")
        .values_list("number", flat=True)
    )


@pytest.mark.postgres
@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_query_outside_a_transaction_heals_after_a_column_changes_length(applications, caplog):
    """The reviewer's reproduction: before, every later run failed with "cached plan must
    not change result type" until the connection was replaced."""
    for _ in range(RUNS_TO_PREPARE):
        assert numbers(applications) == ["BP-2026-0001", "BP-2026-0002"]
    assert prepared_count('"permits_application"."number"') == 1  # the stale one to be
    with column_type_changed("permits_application", "number", "varchar(60)", "varchar(40)"):
        with caplog.at_level(logging.WARNING, logger="core.prepared_statements"):
            assert numbers(applications) == ["BP-2026-0001", "BP-2026-0002"]
        assert [r.levelname for r in caplog.records if HEALED in r.getMessage()] == ["WARNING"]
        assert "run again" in caplog.text
        caplog.clear()
        for _ in range(RUNS_TO_PREPARE):  # prepared again on the new type, no more warnings
            assert numbers(applications) == ["BP-2026-0001", "BP-2026-0002"]
        assert prepared_count('"permits_application"."number"') == 1
        assert HEALED not in caplog.text


@pytest.mark.postgres
@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_query_inside_a_transaction_fails_that_transaction_once_then_heals(applications, caplog):
    """Inside atomic() the transaction is aborted: nothing can run the statement again. The
    error goes up, the rollback makes psycopg forget its prepared statements, and the next
    transaction on the same connection works."""
    for _ in range(RUNS_TO_PREPARE):
        numbers(applications)
    with column_type_changed("permits_application", "number", "varchar(60)", "varchar(40)"):
        with caplog.at_level(logging.WARNING, logger="core.prepared_statements"):
            with pytest.raises(NotSupportedError, match="cached plan must not change result type"):
                with transaction.atomic():
                    numbers(applications)
            with transaction.atomic():
                assert numbers(applications) == ["BP-2026-0001", "BP-2026-0002"]
            assert numbers(applications) == ["BP-2026-0001", "BP-2026-0002"]
        assert HEALED not in caplog.text  # nothing was run again


@pytest.mark.postgres
@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_savepoint_that_fails_on_a_stale_statement_leaves_its_transaction_working(applications):
    """A nested atomic() rolls back to its savepoint (command tag ROLLBACK): psycopg forgets
    its prepared statements there too, so the outer transaction goes on."""
    for _ in range(RUNS_TO_PREPARE):
        numbers(applications)
    with column_type_changed("permits_application", "number", "varchar(60)", "varchar(40)"):
        with transaction.atomic():
            with pytest.raises(NotSupportedError), transaction.atomic():
                numbers(applications)
            assert numbers(applications) == ["BP-2026-0001", "BP-2026-0002"]


@pytest.mark.postgres
@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_batch_statement_is_not_run_again_but_leaves_the_connection_healed(applications, caplog):
    """executemany may have done part of its batch before the refused statement: the error
    goes up, and the next run finds the connection healed."""
    ids = [[pk] for pk in Application.objects.values_list("pk", flat=True)]
    select = 'SELECT "number" FROM "permits_application" WHERE "id" = %s'
    with connection.cursor() as cursor:
        cursor.executemany(select, ids)  # psycopg prepares a batch's statement at once
    with column_type_changed("permits_application", "number", "varchar(60)", "varchar(40)"):
        with caplog.at_level(logging.WARNING, logger="core.prepared_statements"):
            with connection.cursor() as cursor:
                with pytest.raises(NotSupportedError):
                    cursor.executemany(select, ids)
                cursor.executemany(select, ids)
        assert "the batch statement that failed is not run again" in caplog.text


@pytest.mark.postgres
@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_every_request_of_a_signed_in_user_heals_after_auth_user_changes(municipality_a, caplog):
    """core.access reads every column of auth_user on every request: on an old server during
    a rolling upgrade, each of them failed for up to a minute."""
    client = client_for(make_user("clerk", municipality_a, Role.CLERK))
    page = reverse("permits:application_list")
    for _ in range(RUNS_TO_PREPARE):
        assert client.get(page).status_code == 200
    assert prepared_count('"auth_user"') >= 1
    with column_type_changed("auth_user", "first_name", "varchar(160)", "varchar(150)"):
        with caplog.at_level(logging.WARNING, logger="core.prepared_statements"):
            assert client.get(page).status_code == 200
            assert client.get(page).status_code == 200
        assert HEALED in caplog.text


@pytest.mark.postgres
@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_deallocate_all_run_earlier_with_nothing_prepared_does_not_stop_the_healing(
    applications,
):
    """psycopg notices a DEALLOCATE ALL only in a statement text it has not counted yet; the
    wrapper's own text is never counted before it runs, whatever else ran DEALLOCATE ALL."""
    connection.close()  # a fresh connection: nothing prepared yet
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # counted by psycopg, noticed by nobody
    for _ in range(RUNS_TO_PREPARE):
        numbers(applications)
    with column_type_changed("permits_application", "number", "varchar(60)", "varchar(40)"):
        for _ in range(RUNS_TO_PREPARE):  # healed once, and the cache matches the server
            assert numbers(applications) == ["BP-2026-0001", "BP-2026-0002"]


@pytest.mark.postgres
@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_the_wrapper_is_installed_once_and_stays_when_opened_inside_another_wrapper():
    def passthrough(execute, sql, params, many, context):
        return execute(sql, params, many, context)

    connection.close()
    with connection.execute_wrapper(passthrough):
        connection.ensure_connection()  # opened inside the other wrapper
        assert connection.execute_wrappers == [heal_stale_prepared_statements, passthrough]
    assert connection.execute_wrappers == [heal_stale_prepared_statements]
    connection.close()
    connection.ensure_connection()  # the same DatabaseWrapper connects again
    assert connection.execute_wrappers == [heal_stale_prepared_statements]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite counterpart")
def test_sqlite_connections_get_no_wrapper():
    connection.ensure_connection()
    assert heal_stale_prepared_statements not in connection.execute_wrappers
