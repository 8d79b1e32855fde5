variable "name" {
  type        = string
  description = "Name prefix for every resource (lower case, digits and dashes, 3-32 characters)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,31}$", var.name))
    error_message = "name must be 3-32 characters of lower case letters, digits and dashes, starting with a letter."
  }
}

variable "cidr_block" {
  type        = string
  description = "IPv4 CIDR of the VPC, /16 to /24."
  default     = "10.40.0.0/16"
  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 24
    error_message = "cidr_block must be a valid IPv4 CIDR between /16 and /24."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones for the private subnets (one subnet each, at least one)."
  validation {
    condition     = length(var.availability_zones) >= 1 && length(var.availability_zones) <= 6
    error_message = "availability_zones must hold between 1 and 6 zones."
  }
}

variable "enable_s3_endpoint" {
  type        = bool
  description = "Create an S3 gateway endpoint so that training jobs reach S3 without NAT."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource; must include cost-center."
  validation {
    condition     = contains(keys(var.tags), "cost-center")
    error_message = "tags must include a cost-center key."
  }
}
