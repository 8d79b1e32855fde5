# The cloud-agnostic outputs (same names on gcp and azure).

output "artifact_bucket" {
  description = "Bucket for trained models and artifacts."
  value       = aws_s3_bucket.this["models"].bucket
}

output "data_bucket" {
  description = "Bucket for training data and captured requests."
  value       = aws_s3_bucket.this["data"].bucket
}

output "registry_url" {
  description = "Container registry for model-server images."
  value       = aws_ecr_repository.models.repository_url
}

output "serving_endpoint" {
  description = "Name of the online inference endpoint."
  value       = aws_sagemaker_endpoint.this.name
}

output "notebook_name" {
  description = "Managed notebook for the team."
  value       = aws_sagemaker_notebook_instance.this.name
}

output "network_id" {
  description = "VPC / VPC network / VNet id."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Subnets the workloads run in."
  value       = aws_subnet.private[*].id
}

output "encryption_key_id" {
  description = "Customer-managed key protecting the data."
  value       = aws_kms_key.this.arn
}

output "identities" {
  description = "Workload identities by job: training, serving, ci."
  value       = { for job, role in aws_iam_role.this : job => role.arn }
}

output "alert_topic" {
  description = "Where alarms and budget alerts go."
  value       = aws_sns_topic.alerts.arn
}
