name                   = "mlp"
environment            = "staging"
project                = "acme"
region                 = "westeurope"
network_cidr           = "10.80.0.0/16"
serving_instance_type  = "Standard_DS3_v2"
serving_instance_count = 1
notebook_instance_type = "Standard_DS11_v2"
model_image            = "azureml://registries/acme/environments/model-server/versions/1"
high_availability      = false
deletion_protection    = true
enable_budget          = true
monthly_budget         = 1000
alert_email            = "ml-oncall@example.com"
labels = {
  team = "ml-platform"
}
