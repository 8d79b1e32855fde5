name                   = "mlp"
environment            = "staging"
project                = "acme-ml"
region                 = "europe-west4"
network_cidr           = "10.50.0.0/16"
serving_instance_type  = "n1-standard-4"
serving_instance_count = 1
notebook_instance_type = "e2-standard-4"
model_image            = "europe-west4-docker.pkg.dev/acme-ml/mlp-models/model-server:1.0.0"
high_availability      = false
deletion_protection    = true
enable_budget          = true
monthly_budget         = 1000
alert_email            = "ml-oncall@example.com"
labels = {
  team = "ml-platform"
}
