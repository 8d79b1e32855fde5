name                   = "mlp"
environment            = "dev"
project                = "acme-ml"
region                 = "europe-west4"
network_cidr           = "10.40.0.0/16"
serving_instance_type  = "n1-standard-2"
serving_instance_count = 1
notebook_instance_type = "e2-standard-2"
model_image            = "europe-west4-docker.pkg.dev/acme-ml/mlp-models/model-server:1.0.0"
high_availability      = false
deletion_protection    = false
enable_budget          = true
monthly_budget         = 300
alert_email            = "ml-oncall@example.com"
labels = {
  team = "ml-platform"
}
