"""Pure scaling engines with upstream semantics: HPA, KEDA, VPA, cluster, predictive."""
