mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:111122223333:key/state" }
  }
}

variables {
  bucket_name     = "tfml-state-test"
  lock_table_name = "tfml-locks"
  tags            = { cost-center = "platform" }
}

run "versioned_encrypted_locked" {
  command = apply
  assert {
    condition     = one(aws_s3_bucket_versioning.state.versioning_configuration).status == "Enabled"
    error_message = "state must be versioned"
  }
  assert {
    condition     = aws_dynamodb_table.locks[0].hash_key == "LockID"
    error_message = "the S3 backend locks on a LockID hash key"
  }
  assert {
    condition     = output.backend_config.dynamodb_table == "tfml-locks" && output.backend_config.use_lockfile
    error_message = "backend_config must name the lock table and enable lockfiles"
  }
}

run "denies_plain_http" {
  command = plan
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.tls_only.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "the bucket policy must deny requests without TLS"
  }
}

run "lockfile_only" {
  command = plan
  variables {
    lock_table_name = null
  }
  assert {
    condition     = length(aws_dynamodb_table.locks) == 0
    error_message = "no table when lock_table_name is null"
  }
}
