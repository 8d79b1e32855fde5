name                   = "mlp"
environment            = "dev"
project                = "acme"
region                 = "us-east-1"
network_cidr           = "10.10.0.0/16"
serving_instance_type  = "ml.t2.medium"
serving_instance_count = 1
notebook_instance_type = "ml.t3.medium"
model_image            = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlp-dev/model-server:1.0.0"
high_availability      = false
deletion_protection    = false
enable_budget          = true
monthly_budget         = 300
alert_email            = "ml-oncall@example.com"
labels = {
  team = "ml-platform"
}
