mock_provider "aws" {}

variables {
  name = "ml/serving"
  tags = { cost-center = "ml" }
}

run "immutable_scanned_encrypted" {
  command = plan
  assert {
    condition     = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE"
    error_message = "tags must be immutable"
  }
  assert {
    condition     = one(aws_ecr_repository.this.image_scanning_configuration).scan_on_push
    error_message = "images must be scanned on push"
  }
  assert {
    condition     = one(aws_ecr_repository.this.encryption_configuration).encryption_type == "KMS"
    error_message = "images must be encrypted with KMS"
  }
}

run "lifecycle_keeps_n_images" {
  command = plan
  variables {
    keep_images = 5
  }
  assert {
    condition     = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection.countNumber == 5
    error_message = "the lifecycle policy must keep keep_images images"
  }
}

run "rejects_upper_case_name" {
  command = plan
  variables {
    name = "ML/Serving"
  }
  expect_failures = [var.name]
}
