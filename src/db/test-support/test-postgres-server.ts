// Where the tests' PostgreSQL is: KEYLEDGER_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres.
// A module of its own, free of vitest, so vitest.global-setup.ts can import it (vitest cannot be imported there).
export const TEST_POSTGRES_URL_VARIABLE = 'KEYLEDGER_TEST_POSTGRES_URL';
const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function testPostgresAdminUrl(): string {
  return process.env[TEST_POSTGRES_URL_VARIABLE] || DEFAULT_ADMIN_URL;
}
