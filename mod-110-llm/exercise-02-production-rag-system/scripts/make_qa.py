import json
qa = [
 ("How do I find which query is holding back WAL replay on a lagging replica?", "runbooks/postgres-replication-lag.md", "pg_stat_activity"),
 ("What does PgReplicationLagHigh mean?", "runbooks/postgres-replication-lag.md", "30 seconds"),
 ("Which port should services use to connect to PgBouncer?", "runbooks/postgres-connection-exhaustion.md", "6432"),
 ("Applications log FATAL: sorry, too many clients already. What should I do?", "runbooks/postgres-connection-exhaustion.md", "PgBouncer"),
 ("How many billing-writer replicas can usefully consume orders.v2?", "runbooks/kafka-consumer-lag.md", "12"),
 ("Can I reset consumer offsets to latest on orders.v2?", "runbooks/kafka-consumer-lag.md", "Never reset"),
 ("How long is the audit.events topic retained?", "runbooks/kafka-broker-disk.md", "30 days"),
 ("The alert KafkaBrokerDiskFull fired, how do I free space fast?", "runbooks/kafka-broker-disk.md", "retention.ms"),
 ("Which eviction policy does the session cache use?", "runbooks/redis-memory.md", "allkeys-lru"),
 ("What TTL must rate-limiter keys have?", "runbooks/redis-memory.md", "60 seconds"),
 ("At what root volume usage does a Kubernetes node report DiskPressure?", "runbooks/disk-full-nodes.md", "85 percent"),
 ("How do I remove unused container images from a node?", "runbooks/disk-full-nodes.md", "crictl rmi --prune"),
 ("Certificate renewal failed; where are the DNS provider credentials stored?", "runbooks/certificate-expiry.md", "dns01-credentials"),
 ("How many days before expiry does CertificateExpiringSoon fire?", "runbooks/certificate-expiry.md", "21 days"),
 ("What should I capture before terminating a NotReady node?", "runbooks/node-not-ready.md", "kubectl describe node"),
 ("What does exit code 137 mean for a crashing pod?", "runbooks/crashloop-backoff.md", "OOMKilled"),
 ("Which address does NodeLocal DNSCache listen on?", "runbooks/dns-resolution.md", "169.254.20.10"),
 ("Lookups of cluster services time out intermittently. What is the known cause?", "runbooks/dns-resolution.md", "conntrack"),
 ("What should be done after a GPU Xid 79 error?", "runbooks/gpu-node-xid.md", "Xid 79"),
 ("Uploads to the artifacts bucket fail with AccessDenied. Why?", "runbooks/s3-access-denied.md", "alias/helios-artifacts"),
 ("Why should I not use kubectl rollout undo to roll back?", "runbooks/deploy-rollback.md", "Argo CD"),
 ("Vault came back sealed after a restart. What should I check?", "runbooks/vault-sealed.md", "KMS"),
 ("What causes a 502 from the public load balancer?", "runbooks/load-balancer-5xx.md", "keep-alive"),
 ("In which order should etcd members be defragmented?", "runbooks/etcd-defrag.md", "leader last"),
 ("What happens when etcd reaches its quota-backend-bytes?", "runbooks/etcd-defrag.md", "NOSPACE"),
 ("How quickly must the primary on-call acknowledge a page?", "policies/oncall-escalation.md", "5 minutes"),
 ("How should a SEV1 incident channel be named?", "policies/oncall-escalation.md", "#inc-"),
 ("Within how many days is a postmortem due?", "policies/postmortem.md", "5 business days"),
 ("Can schema migrations run during a change freeze?", "policies/change-freeze.txt", "schema migrations"),
 ("Who approves an emergency change?", "policies/change-freeze.txt", "two senior engineers"),
 ("How long does just-in-time production access last?", "policies/access-requests.txt", "8 hours"),
 ("What is the recovery point objective for PostgreSQL?", "policies/backup-retention.txt", "5 minutes"),
 ("What per-tenant rate limit does the inference gateway enforce?", "services/model-serving.html", "50 requests per second"),
 ("Which metric drives vLLM replica autoscaling?", "services/model-serving.html", "vllm:num_requests_waiting"),
 ("How often does feast_materialize run?", "services/feature-store.html", "15 minutes"),
 ("What is the maximum number of CI runners?", "services/ci-runners.html", "60 runners"),
 ("What is the trace sampling rate for requests that return errors?", "services/observability-stack.md", "100 percent"),
 ("What is the largest request the WAF lets through?", "services/ingress.txt", "8 MB"),
 ("A pod is Pending with volume node affinity conflict. What does it mean?", "services/storage.pdf", "volume node affinity conflict"),
 ("Can I shrink a persistent volume?", "services/storage.pdf", "Shrinking"),
]
# Terse look-ups as engineers paste them from an alert or a log line.
qa += [
 ("PgConnectionsSaturated", "runbooks/postgres-connection-exhaustion.md", "PgConnectionsSaturated"),
 ("imageGCHighThresholdPercent", "runbooks/disk-full-nodes.md", "imageGCHighThresholdPercent"),
 ("helios-breakglass", "policies/access-requests.txt", "helios-breakglass"),
 ("Xid 48", "runbooks/gpu-node-xid.md", "Xid 48"),
 ("ndots:5", "runbooks/dns-resolution.md", "ndots:5"),
 ("evicted_keys", "runbooks/redis-memory.md", "evicted_keys"),
 ("alias/vault-unseal", "runbooks/vault-sealed.md", "alias/vault-unseal"),
 ("etcdctl alarm disarm", "runbooks/etcd-defrag.md", "etcdctl alarm disarm"),
 ("FeatureFreshnessStale", "services/feature-store.html", "FeatureFreshnessStale"),
 ("CiQueueBacklog", "services/ci-runners.html", "CiQueueBacklog"),
 ("Alb5xxRateHigh", "runbooks/load-balancer-5xx.md", "Alb5xxRateHigh"),
 ("cmctl renew", "runbooks/certificate-expiry.md", "cmctl renew"),
 ("INFRA Jira project", "policies/postmortem.md", "INFRA"),
 ("helios-bucket terraform module", "services/storage.pdf", "helios-bucket"),
 ("gpu-a100 node pool", "services/model-serving.html", "gpu-a100"),
 ("pg_basebackup", "runbooks/postgres-replication-lag.md", "pg_basebackup"),
]
unanswerable = [
 "What is the office Wi-Fi password?",
 "How do I configure MongoDB sharding for the orders database?",
 "Who won the 2022 football world cup?",
 "What is the parental leave policy?",
 "How do I rotate the Elasticsearch snapshot repository keys?",
 "Which JavaScript framework does the marketing website use?",
]
with open("qa.jsonl", "w") as f:
    for i, (q, s, e) in enumerate(qa, 1):
        text = open("corpus/" + s, "rb").read()
        if s.endswith(".pdf"):
            from pypdf import PdfReader
            text = "\n".join(p.extract_text() for p in PdfReader("corpus/" + s).pages).encode()
        assert e.encode() in text, (s, e)
        f.write(json.dumps({"id": f"q{i:02d}", "question": q, "sources": [s], "evidence": e, "answerable": True}) + "\n")
    for j, q in enumerate(unanswerable, len(qa) + 1):
        f.write(json.dumps({"id": f"q{j:02d}", "question": q, "sources": [], "answerable": False}) + "\n")
print(len(qa) + len(unanswerable))
