import { runProcess } from "@trailkeeper/core/process.ts";
import { loadApiServerConfig } from "./config.ts";
import { startApiServer } from "./server.ts";

runProcess({
  name: "api-server",
  loadConfig: () => loadApiServerConfig(),
  start: (config, log) => startApiServer(config, log).then((server) => ({ stop: () => server.close() })),
});
