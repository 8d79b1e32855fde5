variable "name" {
  type        = string
  description = "Name of the model, endpoint configuration and endpoint (3-50 characters)."
  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){2,49}$", var.name))
    error_message = "name must be 3-50 letters, digits or dashes, starting and ending with a letter or digit."
  }
}

variable "model_image" {
  type        = string
  description = "Inference container image URI."
}

variable "model_data_url" {
  type        = string
  description = "S3 URL of model.tar.gz."
  validation {
    condition     = startswith(var.model_data_url, "s3://")
    error_message = "model_data_url must be an s3:// URL."
  }
}

variable "execution_role_arn" {
  type        = string
  description = "IAM role SageMaker assumes to pull the image and the model."
}

variable "instance_type" {
  type        = string
  description = "Serving instance type (an ml.* type)."
  default     = "ml.m5.large"
  validation {
    condition     = startswith(var.instance_type, "ml.")
    error_message = "instance_type must be a SageMaker ml.* instance type."
  }
}

variable "instance_count" {
  type        = number
  description = "Initial instance count of the primary variant."
  default     = 1
  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 20
    error_message = "instance_count must be between 1 and 20."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets the model containers run in."
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the model containers."
}

variable "capture_s3_uri" {
  type        = string
  description = "s3:// prefix for request/response capture (drift monitoring)."
  validation {
    condition     = startswith(var.capture_s3_uri, "s3://")
    error_message = "capture_s3_uri must be an s3:// URL."
  }
}

variable "capture_percentage" {
  type        = number
  description = "Share of requests captured, 1-100."
  default     = 100
  validation {
    condition     = var.capture_percentage >= 1 && var.capture_percentage <= 100
    error_message = "capture_percentage must be between 1 and 100."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for the endpoint volumes and the captured data."
}

variable "latency_threshold_ms" {
  type        = number
  description = "p90 ModelLatency (milliseconds) above which the latency alarm fires."
  default     = 500
}

variable "alarm_actions" {
  type        = list(string)
  description = "SNS topic ARNs notified by the alarms."
  default     = []
}

variable "enable_autoscaling" {
  type        = bool
  description = "Track invocations per instance with Application Auto Scaling."
  default     = false
}

variable "max_instance_count" {
  type        = number
  description = "Upper bound for autoscaling."
  default     = 4
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include cost-center."
  validation {
    condition     = contains(keys(var.tags), "cost-center")
    error_message = "tags must include a cost-center key."
  }
}
