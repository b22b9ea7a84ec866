import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "./pool.ts";

const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("isDatabaseUnavailable", () => {
  it.each([
    ["refused", withCode("ECONNREFUSED")],
    ["refused on every address", new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")], "")],
    ["lost", new Error("Connection terminated unexpectedly")],
    ["pool acquire timeout", new Error("timeout exceeded when trying to connect")],
    ["admin_shutdown", withCode("57P01", "terminating connection due to administrator command")],
    ["cannot_connect_now", withCode("57P03", "the database system is starting up")],
    ["connection_failure class 08", withCode("08006")],
    ["wrapped", new Error("append failed", { cause: withCode("ECONNRESET") })],
  ])("is true when %s", (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ["a unique violation", withCode("23505", "duplicate key value")],
    ["a statement timeout", withCode("57014", "canceling statement due to statement timeout")],
    ["a plain error", new Error("boom")],
    ["not an error", undefined],
  ])("is false for %s", (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
