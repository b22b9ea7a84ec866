import { inject } from "vitest";
import { describeOperatorUnderChartRbac } from "./chart-rbac-scenario.ts";

// operator.watchNamespace set: the chart grants the namespaced rules through a Role in that namespace only.
const kubeconfigPath = inject("kubeconfigPath");

describeOperatorUnderChartRbac("the operator under the chart's RBAC with operator.watchNamespace (a Role in the watched namespace)", {
  scope: "namespace",
  cluster: async () => ({ kubeconfigPath, stop: async () => {} }),
});
