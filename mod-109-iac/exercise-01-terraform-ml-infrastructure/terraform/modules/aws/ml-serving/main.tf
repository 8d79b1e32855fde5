# SageMaker real-time serving: model -> endpoint configuration (with data capture) -> endpoint,
# plus latency and 5XX alarms and optional autoscaling. Optional attributes are set explicitly:
# left unset, the API's defaults read back as changes and force replacements.

resource "aws_sagemaker_model" "this" {
  name               = var.name
  execution_role_arn = var.execution_role_arn
  primary_container {
    image          = var.model_image
    model_data_url = var.model_data_url
    mode           = "SingleModel"
  }
  vpc_config {
    subnets            = var.subnet_ids
    security_group_ids = var.security_group_ids
  }
  enable_network_isolation = false
  tags                     = var.tags
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  name        = "${var.name}-config"
  kms_key_arn = var.kms_key_arn
  production_variants {
    variant_name                                      = "primary"
    model_name                                        = aws_sagemaker_model.this.name
    instance_type                                     = var.instance_type
    initial_instance_count                            = var.instance_count
    initial_variant_weight                            = 1
    volume_size_in_gb                                 = 30
    model_data_download_timeout_in_seconds            = 600
    container_startup_health_check_timeout_in_seconds = 600
  }
  data_capture_config {
    enable_capture              = true
    initial_sampling_percentage = var.capture_percentage
    destination_s3_uri          = var.capture_s3_uri
    kms_key_id                  = var.kms_key_arn
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
  tags = var.tags
}

resource "aws_sagemaker_endpoint" "this" {
  name                 = var.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name
  tags                 = var.tags
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  alarm_name          = "${var.name}-latency"
  alarm_description   = "p90 model latency above ${var.latency_threshold_ms} ms for 5 minutes"
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency"
  extended_statistic  = "p90"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.latency_threshold_ms * 1000 # the metric is in microseconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions = {
    EndpointName = aws_sagemaker_endpoint.this.name
    VariantName  = "primary"
  }
  alarm_actions = var.alarm_actions
  tags          = var.tags
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-5xx"
  alarm_description   = "model returned 5XX errors for 3 minutes"
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions = {
    EndpointName = aws_sagemaker_endpoint.this.name
    VariantName  = "primary"
  }
  alarm_actions = var.alarm_actions
  tags          = var.tags
}

resource "aws_appautoscaling_target" "this" {
  count              = var.enable_autoscaling ? 1 : 0
  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this.name}/variant/primary"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = var.instance_count
  max_capacity       = max(var.instance_count, var.max_instance_count)
}

resource "aws_appautoscaling_policy" "this" {
  count              = var.enable_autoscaling ? 1 : 0
  name               = "${var.name}-invocations"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value = 70
    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}
