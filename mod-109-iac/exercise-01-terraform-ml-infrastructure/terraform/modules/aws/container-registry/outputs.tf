output "repository_url" {
  description = "URL to push images to (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME)."
  value       = aws_ecr_repository.this.repository_url
}

output "arn" {
  description = "ARN of the repository."
  value       = aws_ecr_repository.this.arn
}
