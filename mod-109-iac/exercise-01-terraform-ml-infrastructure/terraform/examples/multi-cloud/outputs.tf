output "aws_endpoint_name" {
  description = "SageMaker endpoint serving the model."
  value       = module.aws_serving.endpoint_name
}

output "aws_backend_config" {
  description = "S3 backend settings for the platform's state."
  value       = module.aws_state.backend_config
}

output "registries" {
  description = "Where to push images, per cloud."
  value = {
    aws   = module.aws_registry.repository_url
    gcp   = module.gcp_registry.repository_url
    azure = module.azure_registry.login_server
  }
}

output "artifact_stores" {
  description = "Artifact bucket or storage account, per cloud."
  value = {
    aws   = module.aws_artifacts.bucket
    gcp   = module.gcp_artifacts.url
    azure = module.azure_artifacts.storage_account_id
  }
}

output "workspaces" {
  description = "The research workspaces: Vertex AI notebook URI and Azure ML workspace ID."
  value = {
    gcp   = module.gcp_workspace.notebook_proxy_uri
    azure = module.azure_workspace.workspace_id
  }
}

output "gpu_autoscaling_group" {
  description = "Auto scaling group of the AWS GPU training nodes."
  value       = module.aws_gpu.autoscaling_group_name
}
