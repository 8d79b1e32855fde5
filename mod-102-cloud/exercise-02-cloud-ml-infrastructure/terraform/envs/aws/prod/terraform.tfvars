name                   = "mlp"
environment            = "prod"
project                = "acme"
region                 = "us-east-1"
network_cidr           = "10.30.0.0/16"
serving_instance_type  = "ml.m5.xlarge"
serving_instance_count = 2
notebook_instance_type = "ml.t3.large"
model_image            = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlp-prod/model-server:1.0.0"
high_availability      = true
deletion_protection    = true
enable_budget          = true
monthly_budget         = 5000
alert_email            = "ml-oncall@example.com"
labels = {
  team = "ml-platform"
}
