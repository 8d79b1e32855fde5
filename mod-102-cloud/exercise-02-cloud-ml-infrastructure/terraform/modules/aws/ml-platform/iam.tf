# Least privilege: one role per job (training, serving, CI), each action named (never "*"),
# each resource scoped to this platform's buckets, repository, key and SageMaker names.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  sm_arn    = "arn:${local.partition}:sagemaker:${var.region}:${local.account}"
  log_arn   = "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/sagemaker/*"
}

data "aws_iam_policy_document" "sagemaker_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
  }
}

# CI assumes its role from the account's own identities (a federated OIDC provider in
# production); MFA is not possible for a pipeline, so the trust is scoped to a tag instead.
data "aws_iam_policy_document" "ci_trust" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalTag/ci-pipeline"
      values   = [local.prefix]
    }
  }
}

data "aws_iam_policy_document" "training" {
  statement {
    sid       = "ReadData"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.this["data"].arn, "${aws_s3_bucket.this["data"].arn}/*"]
  }
  statement {
    sid       = "WriteModels"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.this["models"].arn, "${aws_s3_bucket.this["models"].arn}/*"]
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.this.arn]
  }
  statement {
    sid       = "PullImages"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.models.arn]
  }
  statement {
    sid       = "EcrToken"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # this API has no resource-level permissions
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_arn]
  }
  statement {
    sid       = "VpcAccess"
    actions   = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"]
    resources = ["*"] # ENI management for VPC jobs is not resource-scoped
  }
}

data "aws_iam_policy_document" "serving" {
  statement {
    sid       = "ReadModels"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.this["models"].arn}/*"]
  }
  statement {
    sid       = "WriteCapture"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this["data"].arn}/capture/*"]
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
  statement {
    sid       = "PullImages"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [aws_ecr_repository.models.arn]
  }
  statement {
    sid       = "EcrToken"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # this API has no resource-level permissions
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_arn]
  }
}

data "aws_iam_policy_document" "ci" {
  statement {
    sid       = "PushImages"
    actions   = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.models.arn]
  }
  statement {
    sid       = "PublishModels"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${aws_s3_bucket.this["models"].arn}/*"]
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
  statement {
    sid       = "Deploy"
    actions   = ["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint"]
    resources = ["${local.sm_arn}:model/${local.prefix}-*", "${local.sm_arn}:endpoint-config/${local.prefix}-*", "${local.sm_arn}:endpoint/${local.prefix}-*"]
  }
  statement {
    sid       = "PassServingRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.this["serving"].arn]
  }
}

locals {
  # Trusts and policies in two maps: the CI policy names the serving role, so the roles must
  # not depend on the policies (one map would be a cycle).
  role_trust = {
    training = data.aws_iam_policy_document.sagemaker_trust.json
    serving  = data.aws_iam_policy_document.sagemaker_trust.json
    ci       = data.aws_iam_policy_document.ci_trust.json
  }
  role_policy = {
    training = data.aws_iam_policy_document.training.json
    serving  = data.aws_iam_policy_document.serving.json
    ci       = data.aws_iam_policy_document.ci.json
  }
}

resource "aws_iam_role" "this" {
  for_each           = local.role_trust
  name               = "${local.prefix}-${each.key}"
  assume_role_policy = each.value
  tags               = local.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.role_policy
  name     = "${local.prefix}-${each.key}"
  role     = aws_iam_role.this[each.key].id
  policy   = each.value
}
