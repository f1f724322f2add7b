// Validates Prometheus Operator resources (a JSON list on stdin) with the schemas of the npm
// package @kubernetes-models/prometheus-operator; prints a JSON list of the errors found.
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

const kinds = { PodMonitor, PrometheusRule, ServiceMonitor };
let input = "";
for await (const chunk of process.stdin) input += chunk;
const errors = [];
for (const manifest of JSON.parse(input)) {
  const name = `${manifest.kind}/${manifest.metadata?.name}`;
  const Kind = kinds[manifest.kind];
  if (!Kind) {
    errors.push(`${name}: not a kind this validator knows`);
    continue;
  }
  try {
    new Kind(manifest).validate();
  } catch (error) {
    errors.push(`${name}: ${error.message}`);
  }
}
console.log(JSON.stringify(errors));
