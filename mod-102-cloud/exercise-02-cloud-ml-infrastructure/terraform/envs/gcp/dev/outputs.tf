output "artifact_bucket" {
  value = module.platform.artifact_bucket
}

output "data_bucket" {
  value = module.platform.data_bucket
}

output "registry_url" {
  value = module.platform.registry_url
}

output "serving_endpoint" {
  value = module.platform.serving_endpoint
}

output "notebook_name" {
  value = module.platform.notebook_name
}

output "network_id" {
  value = module.platform.network_id
}

output "private_subnet_ids" {
  value = module.platform.private_subnet_ids
}

output "encryption_key_id" {
  value = module.platform.encryption_key_id
}

output "identities" {
  value = module.platform.identities
}

output "alert_topic" {
  value = module.platform.alert_topic
}
