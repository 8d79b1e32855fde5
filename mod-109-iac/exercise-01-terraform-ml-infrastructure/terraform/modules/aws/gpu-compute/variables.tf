variable "name" {
  type        = string
  description = "Name prefix of the launch template and the auto scaling group."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,31}$", var.name))
    error_message = "name must be 3-32 characters of lower case letters, digits and dashes, starting with a letter."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI with the NVIDIA driver (e.g. the Deep Learning AMI)."
  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "instance_types" {
  type        = list(string)
  description = "GPU instance types, in order of preference (g4dn, g5, g6, p4d, p5 families)."
  validation {
    condition     = length(var.instance_types) >= 1 && alltrue([for t in var.instance_types : can(regex("^(g4dn|g5|g6|g6e|p4d|p5)\\.", t))])
    error_message = "instance_types must be GPU types of the g4dn, g5, g6, g6e, p4d or p5 families."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets the instances launch in."
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the instances."
}

variable "min_size" {
  type        = number
  description = "Minimum number of instances."
  default     = 0
}

variable "max_size" {
  type        = number
  description = "Maximum number of instances."
  default     = 4
  validation {
    condition     = var.max_size >= 1
    error_message = "max_size must be at least 1."
  }
}

variable "desired_capacity" {
  type        = number
  description = "Instances to start with."
  default     = 0
}

variable "on_demand_base_capacity" {
  type        = number
  description = "Instances that are always on-demand, before spot is used."
  default     = 0
}

variable "on_demand_percentage" {
  type        = number
  description = "Share of on-demand instances above the base capacity (0 = all spot)."
  default     = 0
  validation {
    condition     = var.on_demand_percentage >= 0 && var.on_demand_percentage <= 100
    error_message = "on_demand_percentage must be between 0 and 100."
  }
}

variable "root_volume_gb" {
  type        = number
  description = "Size of the encrypted root volume."
  default     = 200
}

variable "wait_for_capacity_timeout" {
  type        = string
  description = "How long terraform waits for healthy instances (\"0\" skips waiting)."
  default     = "10m"
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource and launched instance; must include cost-center."
  validation {
    condition     = contains(keys(var.tags), "cost-center")
    error_message = "tags must include a cost-center key."
  }
}
