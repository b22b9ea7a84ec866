import { runProcess } from "@trailkeeper/core/process.ts";
import { loadOperatorConfig } from "./config.ts";
import { startOperator } from "./operator.ts";

runProcess({
  name: "operator",
  loadConfig: () => loadOperatorConfig(),
  logFields: (config) => ({ pod: config.POD_NAME }),
  start: (config, logger) => startOperator(config, { logger }),
});
