output "bucket" {
  description = "Name of the state bucket."
  value       = aws_s3_bucket.state.bucket
}

output "lock_table" {
  description = "Name of the lock table, null without one."
  value       = var.lock_table_name == null ? null : aws_dynamodb_table.locks[0].name
}

output "kms_key_arn" {
  description = "ARN of the key that encrypts state."
  value       = aws_kms_key.state.arn
}

output "backend_config" {
  description = "Settings for a partial `backend \"s3\" {}` block (pass as -backend-config)."
  value = merge(
    { bucket = aws_s3_bucket.state.bucket, encrypt = true, kms_key_id = aws_kms_key.state.arn, use_lockfile = true },
    var.lock_table_name == null ? {} : { dynamodb_table = aws_dynamodb_table.locks[0].name },
  )
}
