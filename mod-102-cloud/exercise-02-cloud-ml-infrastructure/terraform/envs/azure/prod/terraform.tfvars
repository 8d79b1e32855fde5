name                   = "mlp"
environment            = "prod"
project                = "acme"
region                 = "westeurope"
network_cidr           = "10.90.0.0/16"
serving_instance_type  = "Standard_DS4_v2"
serving_instance_count = 2
notebook_instance_type = "Standard_DS12_v2"
model_image            = "azureml://registries/acme/environments/model-server/versions/1"
high_availability      = true
deletion_protection    = true
enable_budget          = true
monthly_budget         = 5000
alert_email            = "ml-oncall@example.com"
labels = {
  team = "ml-platform"
}
