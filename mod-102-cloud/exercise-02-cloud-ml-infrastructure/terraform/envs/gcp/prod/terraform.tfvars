name                   = "mlp"
environment            = "prod"
project                = "acme-ml"
region                 = "europe-west4"
network_cidr           = "10.60.0.0/16"
serving_instance_type  = "n1-standard-8"
serving_instance_count = 2
notebook_instance_type = "e2-standard-4"
model_image            = "europe-west4-docker.pkg.dev/acme-ml/mlp-models/model-server:1.0.0"
high_availability      = true
deletion_protection    = true
enable_budget          = true
monthly_budget         = 5000
alert_email            = "ml-oncall@example.com"
labels = {
  team = "ml-platform"
}
