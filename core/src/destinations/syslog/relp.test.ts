import { describe, expect, it } from "vitest";
import { encodeRelpFrame, nextTxnr, openRefusal, parseRelpOffers, parseRelpResponse, RelpFrameParser, relpMaxTxnr, relpOpenOffers } from "./relp.ts";

const text = (frame: Buffer) => frame.toString("utf8");

describe("RELP framing", () => {
  it("encodes TXNR SP COMMAND SP DATALEN [SP DATA] LF, counting bytes", () => {
    expect(text(encodeRelpFrame(1, "open", Buffer.from(relpOpenOffers)))).toBe(`1 open ${Buffer.byteLength(relpOpenOffers)} ${relpOpenOffers}\n`);
    expect(text(encodeRelpFrame(7, "syslog", Buffer.from("<110>1 - - - - - - ü")))).toBe("7 syslog 21 <110>1 - - - - - - ü\n");
    expect(text(encodeRelpFrame(3, "close"))).toBe("3 close 0\n");
  });

  it("offers relp_version, relp_software and the syslog command", () => {
    expect(relpOpenOffers.split("\n").map((l) => l.split("=")[0])).toEqual(["relp_version", "relp_software", "commands"]);
    expect(parseRelpOffers(relpOpenOffers).get("commands")).toEqual(["syslog"]);
  });

  it("numbers commands 1 … 999999999, then 1 again (0 is for server hints)", () => {
    expect(nextTxnr(0)).toBe(1);
    expect(nextTxnr(41)).toBe(42);
    expect(nextTxnr(relpMaxTxnr - 1)).toBe(relpMaxTxnr);
    expect(nextTxnr(relpMaxTxnr)).toBe(1);
  });

  it("parses frames split anywhere, with and without data", () => {
    const stream = Buffer.from("1 rsp 6 200 OK\n0 serverclose 0\n2 rsp 19 500 not accepted ü\n");
    for (let cut = 0; cut <= stream.length; cut++) {
      const parser = new RelpFrameParser();
      const frames = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut))];
      expect(frames.map((f) => [f.txnr, f.command, f.data.toString()])).toEqual([
        [1, "rsp", "200 OK"],
        [0, "serverclose", ""],
        [2, "rsp", "500 not accepted ü"],
      ]);
    }
  });

  it.each([
    ["a rsp 6 200 OK\n", /invalid header/],
    ["1 rsp 6 200 OKAY\n", /does not end with LF/],
    ["1 rsp 99999999 x", /DATALEN 99999999 is over/],
    ["1 rsp 0 x\n", /disagree/],
    [`${"1".repeat(60)}\n`, /no valid header/],
  ])("rejects the malformed stream %j", (input, error) => {
    expect(() => new RelpFrameParser().push(Buffer.from(input))).toThrow(error);
  });

  it("reads rsp data: status, human text, then the command's data", () => {
    expect(parseRelpResponse(Buffer.from("200 OK"))).toEqual({ status: 200, message: "OK", body: "" });
    expect(parseRelpResponse(Buffer.from("500 error 17 on connect"))).toEqual({ status: 500, message: "error 17 on connect", body: "" });
    expect(parseRelpResponse(Buffer.from("200 OK\nrelp_version=0\ncommands=syslog"))).toMatchObject({ status: 200, body: "relp_version=0\ncommands=syslog" });
    expect(() => parseRelpResponse(Buffer.from("OK"))).toThrow(/invalid rsp/);
  });

  it("accepts an open answer only with relp_version and the syslog command", () => {
    const answer = (data: string) => parseRelpResponse(Buffer.from(data));
    expect(openRefusal(answer("200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog"))).toBeUndefined();
    expect(openRefusal(answer("500 required command not supported by client"))).toBe("the receiver refused the session: 500 required command not supported by client");
    expect(openRefusal(answer("200 OK\ncommands=syslog"))).toMatch(/no relp_version/);
    expect(openRefusal(answer("200 OK\nrelp_version=0\ncommands="))).toMatch(/does not accept the syslog command/);
  });
});
