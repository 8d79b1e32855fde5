output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, in the order of availability_zones."
  value       = aws_subnet.private[*].id
}

output "security_group_id" {
  description = "Security group for ML workloads (HTTPS out only)."
  value       = aws_security_group.workloads.id
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint, null when disabled."
  value       = var.enable_s3_endpoint ? aws_vpc_endpoint.s3[0].id : null
}
