import { startKubeApiServer } from "../../support/kube.ts";
import { describeOperatorUnderChartRbac } from "./chart-rbac-scenario.ts";

// Default values: a ClusterRole for every namespace and WATCH_NAMESPACE empty, so the operator serves the whole
// cluster. It gets an API server of its own, where it cannot touch the other test files' resources.
describeOperatorUnderChartRbac("the operator under the chart's default RBAC (a ClusterRole, all namespaces)", {
  scope: "cluster",
  cluster: async () => {
    const server = await startKubeApiServer();
    return { kubeconfigPath: server.kubeconfigPath, stop: () => server.stop() };
  },
});
