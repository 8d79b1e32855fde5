name                   = "mlp"
environment            = "dev"
project                = "acme"
region                 = "westeurope"
network_cidr           = "10.70.0.0/16"
serving_instance_type  = "Standard_DS2_v2"
serving_instance_count = 1
notebook_instance_type = "Standard_DS11_v2"
model_image            = "azureml://registries/acme/environments/model-server/versions/1"
high_availability      = false
deletion_protection    = false
enable_budget          = true
monthly_budget         = 300
alert_email            = "ml-oncall@example.com"
labels = {
  team = "ml-platform"
}
