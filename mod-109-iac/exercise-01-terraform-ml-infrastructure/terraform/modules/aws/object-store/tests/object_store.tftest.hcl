mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111122223333:key/mock" }
  }
}

variables {
  name = "ml-artifacts-test"
  tags = { cost-center = "ml" }
}

run "creates_a_rotated_key_when_none_given" {
  command = apply
  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation
    error_message = "a dedicated key with rotation is expected when kms_key_arn is null"
  }
  assert {
    condition     = output.kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/mock"
    error_message = "kms_key_arn must expose the created key"
  }
}

run "uses_the_given_key" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/given"
  }
  assert {
    condition     = length(aws_kms_key.this) == 0
    error_message = "no key is created when one is given"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == "arn:aws:kms:eu-west-1:111122223333:key/given"
    error_message = "the bucket must be encrypted with the given key"
  }
}

run "private_and_versioned" {
  command = plan
  assert {
    condition     = aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    error_message = "public access must be blocked"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "versioning must be enabled"
  }
}

run "rejects_bad_bucket_name" {
  command = plan
  variables {
    name = "Bad_Bucket"
  }
  expect_failures = [var.name]
}

run "lifecycle_rule_optional" {
  command = plan
  variables {
    noncurrent_version_days = null
  }
  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this) == 0
    error_message = "null noncurrent_version_days must create no lifecycle rule"
  }
}

run "rejects_zero_retention" {
  command = plan
  variables {
    noncurrent_version_days = 0
  }
  expect_failures = [var.noncurrent_version_days]
}
