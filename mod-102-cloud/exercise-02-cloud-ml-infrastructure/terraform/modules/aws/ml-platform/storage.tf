# One customer-managed key (rotated yearly) encrypts the buckets, the registry, SageMaker
# volumes and the alert topic. Buckets are versioned (roll back a bad write, and the state
# rollback runbook relies on the same idea) and never public.

resource "aws_kms_key" "this" {
  description             = "${local.prefix} ML platform data key"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_protection ? 30 : 7
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.prefix}-ml"
  target_key_id = aws_kms_key.this.key_id
}

locals {
  buckets = {
    data   = "${local.prefix}-${var.project}-data"
    models = "${local.prefix}-${var.project}-models"
  }
}

resource "aws_s3_bucket" "this" {
  for_each      = local.buckets
  bucket        = each.value
  force_destroy = !var.deletion_protection
  tags          = merge(local.tags, { purpose = each.key })
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_ecr_repository" "models" {
  name                 = "${local.prefix}/model-server"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = !var.deletion_protection
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.this.arn
  }
  tags = local.tags
}
