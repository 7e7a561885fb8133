import { describe, expect, it } from "vitest";
import { postgresTargetFromEnv } from "../src/postgres/target.js";

describe("postgresTargetFromEnv", () => {
  it("names nothing when neither DATABASE_URL nor PG* variables are set", () => {
    expect(postgresTargetFromEnv({ PATH: "/usr/bin" })).toBeUndefined();
  });

  it("builds URLs from pg_virtualenv's variables, the password encoded and never in the description", () => {
    const target = postgresTargetFromEnv({
      PGHOST: "localhost",
      PGPORT: "5433",
      PGUSER: "postgres",
      PGPASSWORD: "p@ss:w/rd",
      PGDATABASE: "postgres",
    })!;
    expect(target.urlFor("bench_1")).toBe("postgres://postgres:p%40ss%3Aw%2Frd@localhost:5433/bench_1");
    expect(target.maintenanceUrl).toBe("postgres://postgres:p%40ss%3Aw%2Frd@localhost:5433/postgres");
    expect(target.description).toBe("postgres://postgres@localhost:5433");
    expect(new URL(target.urlFor("bench_1")).password).toBe("p%40ss%3Aw%2Frd");
  });

  it("puts a socket directory in the host parameter", () => {
    const target = postgresTargetFromEnv({ PGHOST: "/var/run/postgresql", PGUSER: "me" })!;
    expect(target.urlFor("bench")).toBe("postgres://me@localhost/bench?host=%2Fvar%2Frun%2Fpostgresql&port=5432");
    // The server parses DATABASE_URL as a WHATWG URL.
    expect(new URL(target.urlFor("bench")).searchParams.get("host")).toBe("/var/run/postgresql");
  });

  it("takes DATABASE_URL first and swaps only its database", () => {
    const target = postgresTargetFromEnv({
      DATABASE_URL: "postgresql://app:secret@db.internal:6543/billing?sslmode=disable",
      PGHOST: "elsewhere",
    })!;
    expect(target.urlFor("billingos_bench_1")).toBe(
      "postgresql://app:secret@db.internal:6543/billingos_bench_1?sslmode=disable",
    );
    expect(target.maintenanceUrl).toBe("postgresql://app:secret@db.internal:6543/billing?sslmode=disable");
    expect(target.description).toBe("postgres://app@db.internal:6543");
  });

  it("refuses a DATABASE_URL that is not PostgreSQL's", () => {
    expect(() => postgresTargetFromEnv({ DATABASE_URL: "mysql://x@y/z" })).toThrow(/postgres:\/\//);
  });
});
