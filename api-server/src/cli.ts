#!/usr/bin/env node
/**
 * The `trailkeeper` command. Node's compile cache (in the OS temporary directory; NODE_DISABLE_COMPILE_CACHE=1 turns
 * it off) keeps the type-stripped, compiled modules between runs: start-up falls from about 0.23 s to 0.06 s, which
 * is a tenth of verifying a 200,000-event export (docs/performance.md, "Proof verification"). It must be enabled
 * before the commands' modules load, hence this file and the dynamic import.
 */
import { enableCompileCache } from "node:module";

enableCompileCache();
await import("./cli-main.ts");
