# Alarms on the endpoint go to one encrypted SNS topic; so do budget alerts.

resource "aws_sns_topic" "alerts" {
  name              = "${local.prefix}-alerts"
  kms_master_key_id = aws_kms_key.this.id
  tags              = local.tags
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alert_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

locals {
  endpoint_alarms = {
    errors-5xx = { metric = "Invocation5XXErrors", statistic = "Sum", threshold = 5, namespace = "AWS/SageMaker" }
    latency    = { metric = "ModelLatency", statistic = "Average", threshold = 500000, namespace = "AWS/SageMaker" }
  }
}

resource "aws_cloudwatch_metric_alarm" "endpoint" {
  for_each            = local.endpoint_alarms
  alarm_name          = "${local.prefix}-endpoint-${each.key}"
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  period              = 300
  treat_missing_data  = "notBreaching"
  dimensions = {
    EndpointName = aws_sagemaker_endpoint.this.name
    VariantName  = "primary"
  }
  alarm_actions = [aws_sns_topic.alerts.arn]
  ok_actions    = [aws_sns_topic.alerts.arn]
  tags          = local.tags
}

resource "aws_budgets_budget" "monthly" {
  count        = var.enable_budget ? 1 : 0
  name         = "${local.prefix}-monthly"
  budget_type  = "COST"
  limit_amount = tostring(var.monthly_budget)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"
  cost_filter {
    name   = "TagKeyValue"
    values = ["user:platform$${var.name}"]
  }
  dynamic "notification" {
    for_each = [80, 100]
    content {
      comparison_operator       = "GREATER_THAN"
      threshold                 = notification.value
      threshold_type            = "PERCENTAGE"
      notification_type         = notification.value == 100 ? "FORECASTED" : "ACTUAL"
      subscriber_sns_topic_arns = [aws_sns_topic.alerts.arn]
    }
  }
}
