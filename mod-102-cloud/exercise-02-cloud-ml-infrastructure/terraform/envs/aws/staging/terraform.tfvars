name                   = "mlp"
environment            = "staging"
project                = "acme"
region                 = "us-east-1"
network_cidr           = "10.20.0.0/16"
serving_instance_type  = "ml.m5.large"
serving_instance_count = 1
notebook_instance_type = "ml.t3.medium"
model_image            = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlp-staging/model-server:1.0.0"
high_availability      = false
deletion_protection    = true
enable_budget          = true
monthly_budget         = 1000
alert_email            = "ml-oncall@example.com"
labels = {
  team = "ml-platform"
}
