# Model -> endpoint configuration (with data capture for drift monitoring) -> endpoint, plus a
# notebook for the team. Everything runs in the private subnets, encrypted with the key. Every
# optional attribute is set explicitly: left unset, the API's defaults read back as changes.

locals {
  model_data_url = "s3://${aws_s3_bucket.this["models"].bucket}/models/current/model.tar.gz"
}

resource "aws_sagemaker_model" "this" {
  name               = "${local.prefix}-model"
  execution_role_arn = aws_iam_role.this["serving"].arn
  primary_container {
    image          = var.model_image
    model_data_url = local.model_data_url
    mode           = "SingleModel"
  }
  vpc_config {
    subnets            = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.workloads.id]
  }
  enable_network_isolation = false
  tags                     = local.tags
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  name        = "${local.prefix}-endpoint-config"
  kms_key_arn = aws_kms_key.this.arn
  production_variants {
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.this.name
    instance_type          = var.serving_instance_type
    initial_instance_count = var.serving_instance_count
    initial_variant_weight = 1
    volume_size_in_gb      = 30

    model_data_download_timeout_in_seconds            = 600
    container_startup_health_check_timeout_in_seconds = 600
  }
  data_capture_config {
    enable_capture              = true
    initial_sampling_percentage = var.environment == "prod" ? 20 : 100
    destination_s3_uri          = "s3://${aws_s3_bucket.this["data"].bucket}/capture"
    kms_key_id                  = aws_kms_key.this.arn
    capture_options {
      capture_mode = "Input"
    }
    capture_options {
      capture_mode = "Output"
    }
    capture_content_type_header {
      json_content_types = ["application/json"]
    }
  }
  tags = local.tags
}

resource "aws_sagemaker_endpoint" "this" {
  name                 = "${local.prefix}-endpoint"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name
  tags                 = local.tags
}

# Scale out on invocations per instance (HA only: two or more instances across zones).
resource "aws_appautoscaling_target" "endpoint" {
  count              = var.high_availability ? 1 : 0
  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this.name}/variant/primary"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = max(2, var.serving_instance_count)
  max_capacity       = max(2, var.serving_instance_count) * 3
}

resource "aws_appautoscaling_policy" "endpoint" {
  count              = var.high_availability ? 1 : 0
  name               = "${local.prefix}-invocations"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.endpoint[0].service_namespace
  resource_id        = aws_appautoscaling_target.endpoint[0].resource_id
  scalable_dimension = aws_appautoscaling_target.endpoint[0].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value = 70
    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}

resource "aws_sagemaker_notebook_instance" "this" {
  name                   = "${local.prefix}-notebook"
  role_arn               = aws_iam_role.this["training"].arn
  instance_type          = var.notebook_instance_type
  kms_key_id             = aws_kms_key.this.key_id
  subnet_id              = aws_subnet.private[0].id
  security_groups        = [aws_security_group.workloads.id]
  direct_internet_access = "Disabled"
  root_access            = "Disabled"
  volume_size            = 20
  tags                   = local.tags
}
