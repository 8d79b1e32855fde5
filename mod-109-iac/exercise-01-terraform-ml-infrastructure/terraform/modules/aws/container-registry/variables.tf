variable "name" {
  type        = string
  description = "Repository name, e.g. ml/serving (lower case, slashes allowed)."
  validation {
    condition     = can(regex("^[a-z0-9]+([._/-][a-z0-9]+)*$", var.name))
    error_message = "name must be lower case letters and digits separated by '.', '_', '-' or '/'."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the images; null uses the AWS managed ECR key."
  default     = null
}

variable "keep_images" {
  type        = number
  description = "How many tagged images the lifecycle policy keeps."
  default     = 30
  validation {
    condition     = var.keep_images >= 1 && var.keep_images <= 1000
    error_message = "keep_images must be between 1 and 1000."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include cost-center."
  validation {
    condition     = contains(keys(var.tags), "cost-center")
    error_message = "tags must include a cost-center key."
  }
}
