import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { encodeRelpFrame, parseRelpOffers, RelpFrameParser } from "../../core/src/destinations/syslog/relp.ts";

/**
 * A scripted RELP receiver for the failures rsyslog's imrelp cannot be made to show on demand: a `500` answer, a
 * `serverclose` hint, a receiver that stops answering. The happy path and crashes are tested against rsyslog
 * itself (test/support/rsyslog.ts). `answer` decides per `syslog` command, counted from 0 over the server's life.
 */
export type RelpScript = (message: string, index: number) => "ok" | "refuse" | "silent" | "serverclose";

export interface ScriptedRelpServer {
  port: number;
  /** Messages answered 200, in order (duplicates included). */
  accepted: string[];
  /** `syslog` commands received, answered or not. */
  received: number;
  /** Offers of each `open`, by name. */
  opens: Map<string, string[]>[];
  /** `close` commands received. */
  closes: number;
  answer: RelpScript;
  close(): Promise<void>;
}

const defaultOpenAnswer = "200 OK\nrelp_version=0\nrelp_software=scripted-test-server\ncommands=syslog";

/** `openAnswer` replaces the answer to `open` (status line and offers), e.g. to offer no syslog command. */
export async function startRelpServer(answer: RelpScript = () => "ok", options: { openAnswer?: string } = {}): Promise<ScriptedRelpServer> {
  const sockets = new Set<Socket>();
  const state: ScriptedRelpServer = { port: 0, accepted: [], received: 0, opens: [], closes: 0, answer, close: async () => {} };
  const handle = (socket: Socket) => {
    sockets.add(socket);
    const parser = new RelpFrameParser(1024 * 1024);
    const reply = (txnr: number, text: string) => socket.write(encodeRelpFrame(txnr, "rsp", Buffer.from(text)));
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.on("data", (chunk: Buffer) => {
      for (const frame of parser.push(chunk)) {
        if (frame.command === "open") {
          state.opens.push(parseRelpOffers(frame.data.toString()));
          reply(frame.txnr, options.openAnswer ?? defaultOpenAnswer);
        } else if (frame.command === "close") {
          state.closes++;
          reply(frame.txnr, "200 OK");
          socket.end();
        } else if (frame.command === "syslog") {
          const message = frame.data.toString();
          const verdict = state.answer(message, state.received++);
          if (verdict === "ok") {
            state.accepted.push(message);
            reply(frame.txnr, "200 OK");
          } else if (verdict === "refuse") reply(frame.txnr, "500 message refused by the test script");
          else if (verdict === "serverclose") {
            socket.end(encodeRelpFrame(0, "serverclose"));
            return;
          }
        }
      }
    });
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}
